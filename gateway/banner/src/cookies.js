/** Deleting the cookies of vendors no longer allowed. */

/**
 * Whether cookie `name` matches `pattern`, whose one "*" stands for one or more characters.
 * @param {string} pattern
 * @param {string} name
 */
const matches = (pattern, name) => {
  const [start, end] = pattern.split("*");
  return end === undefined
    ? pattern === name
    : name.length >= pattern.length && name.startsWith(start) && name.endsWith(end);
};

/**
 * Expire every cookie of this page that matches one of `patterns`, host-only and on every
 * parent domain, at path /.
 * @param {string[]} patterns
 */
export const deleteCookies = (patterns) => {
  const labels = location.hostname.split(".");
  for (const cookie of document.cookie.split("; ")) {
    const name = cookie.split("=")[0];
    if (patterns.some((pattern) => matches(pattern, name)))
      for (let i = 0; i < labels.length; i++)
        document.cookie =
          name + "=; Max-Age=0; Path=/" + (i ? "; Domain=" + labels.slice(i - 1).join(".") : "");
  }
};
