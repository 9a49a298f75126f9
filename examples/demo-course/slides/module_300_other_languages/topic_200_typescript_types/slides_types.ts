// j2 from 'macros.j2' import header
// {{ header("Typen in TypeScript", "Types in TypeScript") }}

// %% [markdown] lang="de" tags=["slide"]
// ## Interfaces beschreiben die Form von Objekten

// %% [markdown] lang="en" tags=["slide"]
// ## Interfaces describe the shape of objects

// %%
interface Point {
  x: number;
  y: number;
}

const p: Point = { x: 3, y: 4 };
console.log(`clx-ts-point ${p.x},${p.y}`);

// %% [markdown] lang="de" tags=["subslide"]
// Der Wert des letzten Ausdrucks wird (farbig) angezeigt:

// %% [markdown] lang="en" tags=["subslide"]
// The value of the last expression is shown (in colour):

// %%
p.x * p.y + 30

// %% [markdown] lang="de" tags=["subslide"]
// ## Ein Record-Typ
//
// `Record<K, V>` ordnet jedem Schlüssel einen Wert zu.

// %% [markdown] lang="en" tags=["subslide"]
// ## A record type
//
// `Record<K, V>` maps every key to a value.

// %%
const ages: Record<string, number> = { ada: 36, grace: 85 };
console.log("clx-ts-ages", Object.keys(ages).join("+"));

// %% [markdown] lang="de" tags=["subslide"]
// Deno prüft die Typen im Notebook nicht: ein fehlender Schlüssel fällt erst zur
// Laufzeit auf.

// %% [markdown] lang="en" tags=["subslide"]
// Deno does not type-check notebook cells: a missing key only shows at run time.

// %% tags=["raises-exception"]
const missing = ages["alan"];
missing.toFixed(1);

// %% [markdown] lang="de" tags=["subslide"]
// ## Aufgabe
//
// Geben Sie den Abstand von `p` zum Ursprung aus.

// %% [markdown] lang="en" tags=["subslide"]
// ## Exercise
//
// Print the distance of `p` from the origin.

// %%
console.log(`clx-ts-distance ${Math.hypot(p.x, p.y)}`);
