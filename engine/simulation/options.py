"""The choices of `policylang simulate`, in a module light enough for the command line
to import on every start (the engines pull in NumPy, the writers Arrow)."""

ENGINES = ("columnar", "row", "spark")
FORMATS = ("csv", "parquet")
