"""Write every file generated from the schema: schema/buildgraph.schema.json and the
compiled validators in buildgraph/projectfile/validators/.

    .venv/bin/python scripts/generate_validators.py

Run it after changing buildgraph/projectfile/schema.py or the attribute table, with the
fastjsonschema the test extra pins (`pip install -e '.[test]'`); a test fails while the
files are stale.
"""

from __future__ import annotations

from pathlib import Path

from buildgraph.projectfile.schema import generated_files

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    for relative, text in generated_files().items():
        path = ROOT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {relative}")


if __name__ == "__main__":
    main()
