from buildgraph.cli import main

raise SystemExit(main())
