# j2 from 'macros.j2' import header
# {{ header("Listen [Teil 1]: Grundlagen", "Lists [Part 1]: Python's Workhorse") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Listen anlegen
#
# Eine Liste ist eine geordnete, veränderbare Folge von Werten.

# %% [markdown] lang="en" tags=["slide"]
# ## Creating lists
#
# A list is an ordered, mutable sequence of values.

# %% tags=["keep"]
zahlen = [3, 1, 4, 1, 5]
zahlen

# %% [markdown] lang="de" tags=["subslide"]
# ## Zugriff über den Index
#
# Wie greifen wir auf das erste und das letzte Element zu?

# %% [markdown] lang="en" tags=["subslide"]
# ## Access by index
#
# How do we access the first and the last element?

# %%
zahlen[0], zahlen[-1]

# %% [markdown] lang="de" tags=["answer"]
# Mit `zahlen[0]` und `zahlen[-1]`: negative Indizes zählen vom Ende her.

# %% [markdown] lang="en" tags=["answer"]
# With `zahlen[0]` and `zahlen[-1]`: negative indices count from the end.

# %% [markdown] lang="de"
# Ein Index hinter dem Ende löst einen `IndexError` aus:

# %% [markdown] lang="en"
# An index past the end raises an `IndexError`:

# %% tags=["raises-exception"]
zahlen[10]

# %% [markdown] lang="de" tags=["subslide"]
# ## Elemente anhängen
#
# Hängen Sie die Zahl 9 an `zahlen` an.

# %% [markdown] lang="en" tags=["subslide"]
# ## Appending elements
#
# Append the number 9 to `zahlen`.

# %% tags=["start"]
# zahlen.???

# %%
zahlen.append(9)
zahlen

# %% tags=["alt"]
zahlen = zahlen[:-1] + [9]
zahlen

# %% [md] lang="de" tags=["notes"]
# `append` verändert die Liste selbst und gibt `None` zurück.

# %% [md] lang="en" tags=["notes"]
# `append` changes the list in place and returns `None`.

# %% tags=["notes"]
print(zahlen.append(2) is None)

# %% tags=["del"]
zahlen.sort(reverse=True)
