# j2 from 'macros.j2' import header
# {{ header("Funktionen: Parameter und Rückgabewerte",
            "Functions: Parameters and Return Values") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Funktionen definieren
#
# Mit `def` geben wir einem Stück Code einen Namen.

# %% [markdown] lang="en" tags=["slide"]
# ## Defining functions
#
# `def` gives a piece of code a name.

# %%
def begruessung(name):
    """Gibt eine Begrüßung zurück."""
    return "Hallo, " + name + "!"


begruessung("Ada")

# %% tags=["keep"]
namen = ["Ada", "Grace", "Jürgen"]

# %%
[begruessung(name) for name in namen]

# %% [markdown] lang="de" tags=["subslide"]
# ## Standardwerte
#
# Schreiben Sie `potenz(basis, exponent=2)`.

# %% [markdown] lang="en" tags=["subslide"]
# ## Default values
#
# Write `potenz(basis, exponent=2)`.

# %% tags=["start"]
def potenz(basis, exponent=2):
    ...

# %%
def potenz(basis, exponent=2):
    return basis**exponent


potenz(3), potenz(2, 10)

# %% tags=["alt"]
def potenz(basis, exponent=2):
    ergebnis = 1
    for _ in range(exponent):
        ergebnis *= basis
    return ergebnis


potenz(3), potenz(2, 10)

# j2 if lang == "de"
# %% [markdown]
# ## Schlüsselwort-Argumente
#
# Argumente können auch mit Namen übergeben werden: `potenz(exponent=3, basis=2)`.
# j2 else
# %% [markdown]
# ## Keyword arguments
#
# Arguments can also be passed by name: `potenz(exponent=3, basis=2)`.
# j2 endif

# %%
potenz(exponent=3, basis=2)

# %% [markdown] lang="de" tags=["subslide"]
# ## Platzhalter in Texten
#
# Geschweifte Klammern sind in clx-Quellen Jinja-Syntax; wörtlich schreibt man sie
# mit `raw`.

# %% [markdown] lang="en" tags=["subslide"]
# ## Placeholders in text
#
# Curly braces are Jinja syntax in clx sources; write them literally with `raw`.

# %%
vorlage = "Hallo {% raw %}{{name}}{% endraw %}!"
vorlage.replace("{% raw %}{{name}}{% endraw %}", "Grace")

# %% [markdown] lang="de" tags=["answer"]
# Eine Funktion ohne `return` gibt `None` zurück.

# %% [markdown] lang="en" tags=["answer"]
# A function without `return` returns `None`.

# %% [markdown] lang="de" tags=["notes"]
# Zeit für Fragen einplanen: Parameter vs. Argumente.

# %% [markdown] lang="en" tags=["notes"]
# Leave time for questions: parameters vs. arguments.

# %% tags=["notes"]
help(potenz)

# %% tags=["raises-exception"]
potenz()

# %% tags=["del"]
# TODO: *args und **kwargs
