# -*- coding: utf-8 -*-
# j2 from 'macros.j2' import header
# {{ header("Schleifen (for/while)", "Loops (for/while)") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Wiederholen mit `for`
#
# <img src='img/loop.png' alt="Schleife" width="96"/>

# %% [markdown] lang="en" tags=["slide"]
# ## Repeating with `for`
#
# <img src='img/loop.png' alt="Loop" width="96"/>

# %% tags=["keep"]
import math

from loop_tools import countdown, running_total

# %%
for zahl in [1, 4, 9]:
    print(zahl, math.sqrt(zahl))

# %% [markdown] lang="de" tags=["subslide"]
# ## Wiederholen mit `while`
#
# <img src="img/loop_flow.png" alt="Ablauf einer while-Schleife" style="width:30%"/>

# %% [markdown] lang="en" tags=["subslide"]
# ## Repeating with `while`
#
# <img src="img/loop_flow.png" alt="Flow of a while loop" style="width:30%"/>

# %%
n = 3
while n > 0:
    print(n)
    n -= 1

# %% [markdown] lang="de" tags=["subslide"]
# ## Hilfsfunktionen aus `loop_tools`
#
# Zählen Sie mit `countdown` von 5 herunter.

# %% [markdown] lang="en" tags=["subslide"]
# ## Helpers from `loop_tools`
#
# Count down from 5 with `countdown`.

# %% tags=["start"]
list(countdown(...))

# %%
list(countdown(5))

# %% tags=["alt"]
list(range(5, 0, -1))

# %% [markdown] lang="de" tags=["answer"]
# `countdown` ist ein Generator; `list(...)` sammelt seine Werte ein.

# %% [markdown] lang="en" tags=["answer"]
# `countdown` is a generator; `list(...)` collects its values.

# %%
running_total([1, 2, 3, 4])

# %% [markdown] lang="de" tags=["notes"]
# `math` kommt aus der Standardbibliothek und wird daher nicht mitkopiert,
# `loop_tools.py` liegt neben dieser Datei und wird mitkopiert.

# %% [markdown] lang="en" tags=["notes"]
# `math` is part of the standard library, so it is not copied;
# `loop_tools.py` sits next to this file and is copied along.

# %% tags=["notes"]
math.factorial(5)

# %% tags=["raises-exception"]
math.sqrt(-1)

# %% tags=["del"]
print("Notiz für mich: Beispiel mit break ergänzen")
