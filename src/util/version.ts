/** tlrun's version, from package.json (cache keys and run records carry it). */
export const TLRUN_VERSION: string = require("../../../package.json").version;
