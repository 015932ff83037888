/** A `data.columns.path_template` such as "{image_id}.jpg", split into literal text and column names. */
export interface PathTemplate {
  /** The columns it reads, in order. */
  fields: string[];
  /** The path for one row, given each field's value. */
  render(value: (field: string) => string): string;
}

/**
 * Parse a path template: `{name}` is a column's value, `{{` and `}}` are literal braces. Returns
 * the reason instead when it is malformed (an unclosed brace, an empty name, no column at all,
 * which would give every row the same path).
 */
export function parsePathTemplate(template: string): PathTemplate | { error: string } {
  const parts: Array<{ text: string } | { field: string }> = [];
  let text = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === "{" || c === "}") && template[i + 1] === c) {
      text += c;
      i++;
    } else if (c === "{") {
      const end = template.indexOf("}", i);
      if (end < 0) return { error: `the '{' at character ${i + 1} is not closed; write {column} or {{ for a literal brace` };
      const field = template.slice(i + 1, end).trim();
      if (!field || field.includes("{")) return { error: `'${template.slice(i, end + 1)}' at character ${i + 1} names no column` };
      if (text) parts.push({ text });
      text = "";
      parts.push({ field });
      i = end;
    } else if (c === "}") {
      return { error: `the '}' at character ${i + 1} closes nothing; write }} for a literal brace` };
    } else text += c;
  }
  if (text) parts.push({ text });
  const fields = parts.flatMap((p) => ("field" in p ? [p.field] : []));
  if (!fields.length) return { error: "it names no column, so every row would name the same file; write e.g. \"{image_id}.jpg\"" };
  return { fields, render: (value) => parts.map((p) => ("field" in p ? value(p.field) : p.text)).join("") };
}
