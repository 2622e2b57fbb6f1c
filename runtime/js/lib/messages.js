// The messages and exit codes this package shares with the Python runtime, from one catalogue:
// runtime/messages.json in the repository (read by fclf_edge.runtime.messages too), or the copy a
// packed npm package carries in its own folder (made at prepack). A reworded message is one change
// for both command-line tools and the page. Pure JavaScript: Node reads the file, the page
// fetches it (top-level await, so importers see it loaded).

// The package's own copy first (a packed package), else the repository's one file.
const CANDIDATES = [
  new URL('../messages.json', import.meta.url),
  new URL('../../messages.json', import.meta.url),
];

async function load() {
  if (globalThis.process?.versions?.node) {
    const { readFileSync } = await import('node:fs');
    for (const url of CANDIDATES) {
      let text;
      try {
        text = readFileSync(url, 'utf8');
      } catch (error) {
        if (error.code === 'ENOENT') continue;
        throw error;
      }
      return { url, catalogue: JSON.parse(text) };
    }
    throw new Error(`the message catalogue is missing: ${CANDIDATES.map(String).join(' or ')}`);
  }
  const url = CANDIDATES[1]; // the page is served from the repository's runtime/ folder
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return { url, catalogue: await response.json() };
}

const loaded = await load();

/** Where the catalogue was read from (a URL). */
export const CATALOGUE_URL = loaded.url;
/** The whole catalogue: {exit_codes: [...], messages: {key: template}}. */
export const CATALOGUE = Object.freeze(loaded.catalogue);

// A placeholder is {name}, the same pattern as the Python accessor's: no format specs, callers
// pass formatted text (floatRepr, thousands), so a template reads the same in both languages.
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The message `key` with each {name} replaced by String(fields[name]). */
export function text(key, fields = {}) {
  const template = CATALOGUE.messages[key];
  if (template === undefined) throw new Error(`no message '${key}' in the catalogue`);
  return template.replace(PLACEHOLDER, (_, name) => {
    if (!(name in fields)) throw new Error(`message '${key}' needs a value for {${name}}`);
    return String(fields[name]);
  });
}

/** {code, name, help} of every exit code `tool` ('node' or 'python') can end with, in order. */
export function exitCodes(tool = 'node') {
  return CATALOGUE.exit_codes
    .filter((entry) => tool !== 'node' || entry.node !== false)
    .map((entry) => ({
      code: entry.code,
      name: entry.name,
      help: (tool === 'node' && entry.help_node) || entry.help,
    }));
}

/** The exit-code paragraph of every command's --help. */
export function exitCodesHelp(tool = 'node') {
  return `Exit codes: ${exitCodes(tool)
    .map(({ code, help }) => `${code} ${help}`)
    .join('; ')}.`;
}
