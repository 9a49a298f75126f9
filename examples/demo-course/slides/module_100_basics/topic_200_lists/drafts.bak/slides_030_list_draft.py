# Draft in a folder whose name contains ".bak": ignored by clx, so it is not a notebook.
print("never built")
