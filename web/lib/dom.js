// Small DOM helpers shared by the pages. Everything is built with
// textContent, never innerHTML: names and messages come from other people.

/** An element with attributes and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** The element with `id`; a missing one is a bug in the page. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`no #${id}`);
  return node;
}

/** Shows exactly the one section of `sections` whose id is `id`. */
export function showOnly(sections, id) {
  for (const section of sections) section.hidden = section.id !== id;
}

/**
 * Says `text` in a live region: screen readers announce it (politely, or
 * at once for `assertive` regions, which the pages use for errors).
 */
export function announce(region, text) {
  region.textContent = '';
  // A new text node after a clear is what makes every reader repeat it.
  requestAnimationFrame(() => { region.textContent = text; });
}

/**
 * Makes `zone` take dropped files: highlighted (`.over`) while files are
 * dragged over it, `onFiles(files)` with the dropped ones.
 */
export function dropZone(zone, onFiles) {
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    onFiles([...event.dataTransfer.files]);
  });
}
