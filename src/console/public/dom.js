/** Builds elements from data without ever parsing it as HTML: names and ids from the API stay text. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof HTMLElement ? child : String(child));
  }
  return element;
}

/** A table with a caption; `columns` are {label, numeric?}, rows are arrays of cells (text or elements). */
export function table(caption, columns, rows, footer) {
  const head = h('tr', {}, columns.map((column) => h('th', { scope: 'col', class: column.numeric ? 'num' : undefined }, column.label)));
  const line = (cells, cell = 'td') =>
    h('tr', {}, cells.map((value, index) => h(index === 0 && cell === 'td' ? 'th' : cell, { scope: index === 0 ? 'row' : undefined, class: columns[index] && columns[index].numeric ? 'num' : undefined }, value)));
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', {}, h('caption', {}, caption), h('thead', {}, head), h('tbody', {}, rows.map((row) => line(row))), footer ? h('tfoot', {}, line(footer, 'td')) : null),
  );
}
