# j2 from 'macros.j2' import header
# {{ header("Ein-/Ausgabe mit Dateien (z.B. CSV)", "Input/Output with Files (e.g. CSV)") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Dateien lesen
#
# Die Datei `data/scores.csv` liegt neben diesem Notebook.

# %% [markdown] lang="en" tags=["slide"]
# ## Reading files
#
# The file `data/scores.csv` sits next to this notebook.

# %% tags=["keep"]
from pathlib import Path

from csv_tools import average, read_scores

# %%
text = Path("data/scores.csv").read_text(encoding="utf-8")
print(text)

# %% [markdown] lang="de" tags=["subslide"]
# ## CSV mit dem Modul `csv`
#
# `csv_tools.read_scores` liefert eine Liste von Dictionaries.

# %% [markdown] lang="en" tags=["subslide"]
# ## CSV with the `csv` module
#
# `csv_tools.read_scores` returns a list of dictionaries.

# %%
punkte = read_scores("data/scores.csv")
punkte[0]

# j2 include "snippet.py"

# %% [markdown] lang="de" tags=["subslide"]
# ## Durchschnitt berechnen
#
# Berechnen Sie den Durchschnitt aller Punktzahlen.

# %% [markdown] lang="en" tags=["subslide"]
# ## Computing the average
#
# Compute the average of all scores.

# %% tags=["start"]
durchschnitt = ...

# %%
durchschnitt = average(punkte)
round(durchschnitt, 2)

# %% tags=["alt"]
durchschnitt = sum(p["punkte"] for p in punkte) / len(punkte)
round(durchschnitt, 2)

# %% [markdown] lang="de" tags=["answer"]
# `average` summiert die Punkte und teilt durch die Anzahl der Zeilen.

# %% [markdown] lang="en" tags=["answer"]
# `average` adds up the scores and divides by the number of rows.

# %% [markdown] lang="de" tags=["subslide"]
# ## Dateien schreiben

# %% [markdown] lang="en" tags=["subslide"]
# ## Writing files

# %% lang="de"
ziel = Path("results") / "zusammenfassung.txt"
ziel.parent.mkdir(exist_ok=True)
ziel.write_text(f"Durchschnitt: {durchschnitt:.2f}\n", encoding="utf-8")
print(ziel.read_text(encoding="utf-8"))

# %% lang="en"
ziel = Path("results") / "summary.txt"
ziel.parent.mkdir(exist_ok=True)
ziel.write_text(f"Average: {durchschnitt:.2f}\n", encoding="utf-8")
print(ziel.read_text(encoding="utf-8"))

# %% [markdown] lang="de" tags=["notes"]
# Immer `encoding="utf-8"` angeben, sonst hängt das Ergebnis vom Betriebssystem ab.

# %% [markdown] lang="en" tags=["notes"]
# Always pass `encoding="utf-8"`; otherwise the result depends on the operating system.

# %% tags=["notes"]
sorted(p.name for p in Path("data").iterdir())

# %% tags=["raises-exception"]
Path("data/fehlt.csv").read_text(encoding="utf-8")

# %% tags=["del"]
Path("results/zusammenfassung.txt").unlink()
