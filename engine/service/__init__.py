"""The decision service: `policylang serve` over FastAPI and uvicorn.

`store.py` holds the loaded policies and swaps new versions in only when they check
and pass their tests; `app.py` turns HTTP requests into engine calls and engine
errors into JSON errors; `metrics.py` counts; `command.py` runs the server.
"""
