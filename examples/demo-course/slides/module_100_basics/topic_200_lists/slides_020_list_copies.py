# j2 from 'macros.j2' import header
# {{ header("Listen [Teil 2]: Slicing & Kopien", "Lists [Part 2]: Slicing & Copies") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Slicing
#
# `liste[start:stop]` liefert eine neue Liste.

# %% [markdown] lang="en" tags=["slide"]
# ## Slicing
#
# `liste[start:stop]` returns a new list.

# %% tags=["keep"]
buchstaben = ["a", "b", "c", "d", "e"]

# %%
buchstaben[1:3]

# %% [markdown] lang="de" tags=["subslide"]
# ## Zwei Namen, eine Liste
#
# <img src="img/list_references.png" alt="Zwei Variablen zeigen auf dieselbe Liste" style="width:50%"/>

# %% [markdown] lang="en" tags=["subslide"]
# ## Two names, one list
#
# <img src="img/list_references.png" alt="Two variables refer to the same list" style="width:50%"/>

# %%
a = [1, 2, 3]
b = a
b.append(4)
a

# %% [markdown] lang="de" tags=["subslide"]
# ## Kopien
#
# Wie erzeugen wir eine unabhängige Kopie?

# %% [markdown] lang="en" tags=["subslide"]
# ## Copies
#
# How do we make an independent copy?

# %% tags=["start"]
kopie = ...

# %%
kopie = a.copy()
kopie.append(5)
a, kopie

# %% tags=["alt"]
kopie = a[:]
kopie is a

# %% [markdown] lang="de" tags=["answer"]
# Mit `a.copy()` oder `a[:]`; beide erzeugen eine *flache* Kopie.

# %% [markdown] lang="en" tags=["answer"]
# With `a.copy()` or `a[:]`; both make a *shallow* copy.

# %% [markdown] lang="de"
# Tupel sehen aus wie Listen, sind aber unveränderlich:

# %% [markdown] lang="en"
# Tuples look like lists but are immutable:

# %% tags=["raises-exception"]
tuple(buchstaben)[0] = "z"

# %% [markdown] lang="de" tags=["notes"]
# Auf den Unterschied zwischen flacher und tiefer Kopie hinweisen (`copy.deepcopy`).

# %% [markdown] lang="en" tags=["notes"]
# Point out shallow versus deep copies (`copy.deepcopy`).

# %% tags=["notes"]
import copy

verschachtelt = [[1], [2]]
tief = copy.deepcopy(verschachtelt)
tief[0].append(99)
verschachtelt, tief

# %% tags=["del"]
print("Entwurf: Beispiel mit copy.copy ergänzen")
