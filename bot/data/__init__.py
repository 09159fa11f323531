"""The data: the SQLite store and its migrations (store.py), every row about a person found
from the schema (personal.py), a person's export and "delete my data" (mydata.py), and the
operators' anonymous figures (stats.py)."""
