/** Least-squares line through (x, y) points, for extrapolating a measurement from two or more folder sizes. */
export interface Line {
  slope: number;
  intercept: number;
  at(x: number): number;
}

export function linearFit(points: Array<[number, number]>): Line {
  if (points.length < 2) throw new Error(`a line needs two points, got ${points.length}`);
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) throw new Error("a line needs two different x values");
  const slope = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const intercept = my - slope * mx;
  return { slope, intercept, at: (x) => intercept + slope * x };
}
