"""The static site: a thin MkDocs plugin (``plugin``) over page generation from the index (``pages``),
safe rendering of untrusted card text (``safe``) and the Atom feed (``feed``)."""
