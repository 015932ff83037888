/** Whether to colour what goes to `s`: a terminal, unless NO_COLOR is set (no-color.org). */
export const useColor = (s: NodeJS.WriteStream): boolean => !!s.isTTY && !process.env.NO_COLOR;
