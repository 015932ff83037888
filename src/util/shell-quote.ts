/** Quote one argument for sh, bash and zsh, so a printed command can be pasted; plain words stay as they are. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\/.:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
