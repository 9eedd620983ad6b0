// A polygon drawn with clicks on a camera's picture, in picture coordinates (0..1 across and down, like the
// detection zones), with the last point undone or all cleared; cells of the motion grid shown over it.
const SVG = "http://www.w3.org/2000/svg";
const POINT_PX = 5; // a point's radius on the screen

export class AreaDrawing extends EventTarget {
  // `svg`: laid over the picture, the same size.
  constructor(svg) {
    super();
    this.svg = svg;
    this.points = [];
    this.size = { width: 1, height: 1 };
    svg.addEventListener("click", (click) => {
      const box = svg.getBoundingClientRect();
      const clamp = (value) => Math.round(Math.max(0, Math.min(1, value)) * 10000) / 10000;
      this.points.push([clamp((click.clientX - box.left) / box.width), clamp((click.clientY - box.top) / box.height)]);
      this.changed();
    });
  }

  // The picture's own size in pixels (the drawing's units).
  setPicture(width, height) {
    this.size = { width, height };
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.draw();
  }

  undo() {
    this.points.pop();
    this.changed();
  }

  clear() {
    this.points = [];
    this.changed();
  }

  changed() {
    this.draw();
    this.svg.dataset.points = this.points.length;
    this.dispatchEvent(new Event("change"));
  }

  draw() {
    const { width, height } = this.size;
    const scale = width / (this.svg.getBoundingClientRect().width || width);
    this.svg.querySelector(".area").setAttribute("points",
      this.points.map(([x, y]) => `${x * width},${y * height}`).join(" "));
    this.svg.querySelector(".points").replaceChildren(...this.points.map(([x, y]) => {
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", x * width);
      dot.setAttribute("cy", y * height);
      dot.setAttribute("r", POINT_PX * scale);
      return dot;
    }));
  }

  // Cells `[[column, row], ...]` of a `columns` x `rows` grid, drawn with the class `kind` ("area-cell", "moved",
  // "busy"); returns their rectangles, in order.
  showCells(cells, columns, rows, kind) {
    const { width, height } = this.size;
    const group = this.svg.querySelector(".cells");
    for (const old of group.querySelectorAll(`.${kind}`)) old.remove();
    const shown = cells.map(([column, row]) => {
      const cell = document.createElementNS(SVG, "rect");
      cell.setAttribute("class", kind);
      cell.setAttribute("x", (column / columns) * width);
      cell.setAttribute("y", (row / rows) * height);
      cell.setAttribute("width", width / columns);
      cell.setAttribute("height", height / rows);
      return cell;
    });
    group.append(...shown);
    return shown;
  }
}
