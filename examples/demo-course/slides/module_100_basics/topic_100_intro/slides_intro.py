# j2 from 'macros.j2' import header
# {{ header("Einführung: Python 3 für Umsteiger von C#", "Introduction: Python 3 for C# Developers") }}

# %% [markdown] lang="de" tags=["subslide"]
# ## Worum geht es?
#
# - Python ist eine interpretierte Sprache mit klarer Syntax.
# - Dieser Kurs von {{ author }} zeigt Listen, Schleifen, Funktionen und Dateien.
# - Sprache der Beispiele: `{{ prog_lang }}`.

# %% [markdown] lang="en" tags=["subslide"]
# ## What is this about?
#
# - Python is an interpreted language with a clear syntax.
# - This course by {{ author }} covers lists, loops, functions and files.
# - Language of the examples: `{{ prog_lang }}`.

# j2 if is_notebook
# %% [markdown] lang="de"
# *Tipp:* Führen Sie jede Zelle mit <kbd>Shift</kbd>+<kbd>Enter</kbd> aus.

# %% [markdown] lang="en"
# *Tip:* Run each cell with <kbd>Shift</kbd>+<kbd>Enter</kbd>.

# j2 endif
# %% [markdown] lang="de" tags=["slide"]
# ## Vom Quelltext zur Ausgabe
#
# <img src="img/flow.png" alt="Ablauf" style="width:40%"/>

# %% [markdown] lang="en" tags=["slide"]
# ## From source code to output
#
# <img src="img/flow.png" alt="Flow" style="width:40%"/>

# %% [markdown] lang="de" tags=["notes"]
# Das Diagramm stammt aus `pu/flow.pu`; clx rendert es bei jedem Build neu.

# %% [markdown] lang="en" tags=["notes"]
# The diagram comes from `pu/flow.pu`; clx renders it on every build.

# %% [markdown] lang="de" tags=["slide"]
# ## Das erste Programm

# %% [markdown] lang="en" tags=["slide"]
# ## The first program

# %% lang="de"
print("Hallo, Welt! Grüße aus Python.")

# %% lang="en"
print("Hello, world! Greetings from Python.")

# %% tags=["notes", "keep"]
import sys

print(sys.version_info >= (3, 8))

# %% [markdown] lang="de" tags=["subslide"]
# ## Zahlen und Variablen
#
# Berechnen Sie die Fläche eines Rechtecks mit den Seiten 3 und 4.

# %% [markdown] lang="en" tags=["subslide"]
# ## Numbers and variables
#
# Compute the area of a rectangle with sides 3 and 4.

# %% tags=["start"]
breite = 3
hoehe = 4
flaeche = ...

# %%
breite = 3
hoehe = 4
flaeche = breite * hoehe
flaeche

# %% tags=["alt"]
flaeche = 3 * 4
flaeche

# %% [markdown] lang="de" tags=["answer"]
# Die Fläche ist `breite * hoehe`, also 12.

# %% [markdown] lang="en" tags=["answer"]
# The area is `breite * hoehe`, that is 12.

# %% [markdown] lang="de"
# Ein Tippfehler im Namen führt zu einem `NameError`:

# %% [markdown] lang="en"
# A typo in a name leads to a `NameError`:

# %% tags=["raises-exception"]
flaeshe

# %% tags=["del"]
# Entwurf: wird in keiner Ausgabe erscheinen.
print("draft")

# %% [markdown] lang="de" tags=["subslide"]
# ## Unser Maskottchen
#
# <img src='img/snake.png' alt="Schlange" width="64"/>

# %% [markdown] lang="en" tags=["subslide"]
# ## Our mascot
#
# <img src='img/snake.png' alt="Snake" width="64"/>
