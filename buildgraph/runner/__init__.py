"""The only place buildgraph starts processes: probing the engine and running builds."""
