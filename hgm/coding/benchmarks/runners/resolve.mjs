// Module resolution as jest's babel set-up gives Exercism's JavaScript exercises: `import x from './x'` finds x.js,
// and .js files are ES modules whatever package.json says.
const RELATIVE = /^\.{1,2}\//;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!RELATIVE.test(specifier)) throw error;
    for (const suffix of ['.js', '.mjs', '/index.js']) {
      try {
        return await nextResolve(specifier + suffix, context);
      } catch {
        // try the next suffix
      }
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.js') && !url.includes('/node_modules/')) {
    return nextLoad(url, { ...context, format: 'module' });
  }
  return nextLoad(url, context);
}
