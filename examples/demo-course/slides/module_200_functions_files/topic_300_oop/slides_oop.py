# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# j2 from 'macros.j2' import header
# {{ header('Was ist OOP?', 'What is OOP?') }}

# %% [markdown] lang="de" tags=["slide"]
# ## Objekte bündeln Daten und Verhalten
#
# Dieses Thema hat `html="false"` in der Kursbeschreibung: es entstehen nur
# Notebooks und Code, keine HTML-Seiten.

# %% [markdown] lang="en" tags=["slide"]
# ## Objects bundle data and behaviour
#
# This topic has `html="false"` in the course spec: it produces notebooks and
# code only, no HTML pages.

# %% tags=["keep"] deletable=false
from dataclasses import dataclass

# %%
@dataclass
class Konto:
    inhaber: str
    saldo: float = 0.0

    def einzahlen(self, betrag):
        if betrag <= 0:
            raise ValueError("Betrag muss positiv sein")
        self.saldo += betrag
        return self.saldo


konto = Konto("Ada")
konto.einzahlen(100)

# %% [markdown] lang="de" tags=["subslide"]
# ## Aufgabe
#
# Ergänzen Sie eine Methode `abheben(betrag)`.

# %% [markdown] lang="en" tags=["subslide"]
# ## Exercise
#
# Add a method `abheben(betrag)` (withdraw).

# %% tags=["start"]
class Konto(Konto):
    def abheben(self, betrag):
        ...

# %%
class Konto(Konto):
    def abheben(self, betrag):
        self.saldo -= betrag
        return self.saldo


konto = Konto("Grace", 50)
konto.abheben(20)

# %% tags=["alt"]
def abheben(konto, betrag):
    konto.saldo -= betrag
    return konto.saldo


abheben(Konto("Grace", 50), 20)

# %% [markdown] lang="de" tags=["answer"]
# Die Methode ändert `self.saldo`; eine Prüfung auf Deckung fehlt noch.

# %% [markdown] lang="en" tags=["answer"]
# The method changes `self.saldo`; a check for sufficient funds is still missing.

# %% [markdown] lang="de" tags=["notes"]
# Vererbung hier nur andeuten; sie kommt später ausführlich.

# %% [markdown] lang="en" tags=["notes"]
# Only hint at inheritance here; it is covered in depth later.

# %% tags=["notes"]
Konto.__mro__

# %% tags=["raises-exception"]
konto.einzahlen(-5)

# %% tags=["del"]
konto.saldo = 1_000_000
