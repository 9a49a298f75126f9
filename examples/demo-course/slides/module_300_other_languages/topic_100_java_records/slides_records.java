// j2 from 'macros.j2' import header
// {{ header("Records und Interfaces in Java", "Records and Interfaces in Java") }}

// %% [markdown] lang="de" tags=["slide"]
// ## Ein Record bündelt Werte
//
// Ein `record` erzeugt Konstruktor, Zugriffsmethoden, `equals` und `toString`.

// %% [markdown] lang="en" tags=["slide"]
// ## A record bundles values
//
// A `record` gets a constructor, accessors, `equals` and `toString` for free.

// %%
record Point(int x, int y) {}

// %%
Point p = new Point(3, 4);
System.out.println("clx-java-point " + p.x() + "," + p.y());

// %% [markdown] lang="de" tags=["subslide"]
// Der Wert des letzten Ausdrucks wird angezeigt:

// %% [markdown] lang="en" tags=["subslide"]
// The value of the last expression is shown:

// %%
new Point(1, 2)

// %% [markdown] lang="de" tags=["subslide"]
// ## Interfaces
//
// Ein `sealed interface` legt fest, welche Typen es implementieren.

// %% [markdown] lang="en" tags=["subslide"]
// ## Interfaces
//
// A `sealed interface` fixes which types implement it.

// %%
sealed interface Shape permits Circle, Square {
    double area();
}

record Circle(double r) implements Shape {
    public double area() { return Math.PI * r * r; }
}

record Square(double side) implements Shape {
    public double area() { return side * side; }
}

// %%
Shape s = new Square(6);
System.out.println("clx-java-area " + s.area());

// %% [markdown] lang="de" tags=["subslide"]
// Felder eines Records sind unveränderlich: das übersetzt nicht.

// %% [markdown] lang="en" tags=["subslide"]
// The fields of a record are final: this does not compile.

// %% tags=["raises-exception"]
p.x = 5;

// %% [markdown] lang="de" tags=["subslide"]
// ## Aufgabe
//
// Geben Sie die Fläche eines Kreises mit Radius 1 aus.

// %% [markdown] lang="en" tags=["subslide"]
// ## Exercise
//
// Print the area of a circle of radius 1.

// %%
System.out.println("clx-java-circle " + String.format("%.2f", new Circle(1).area()));
