# %% [markdown] lang="de"
# *Eingebunden aus `snippet.py`:* die beste Punktzahl.

# %% [markdown] lang="en"
# *Included from `snippet.py`:* the best score.

# %%
beste = max(punkte, key=lambda p: p["punkte"])
beste["name"], beste["punkte"]
