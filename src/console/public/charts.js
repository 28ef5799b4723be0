/** Charts drawn by Chart.js (served by the service itself), each with a text summary for screen readers. */

const PALETTE = ['#0b5fa5', '#e07b00', '#1d7a3a', '#b3261e', '#6b4fa0', '#00838f', '#8a5a00', '#c2185b'];
const live = [];

export function color(index) {
  return PALETTE[index % PALETTE.length];
}

/** Destroys the charts of the page being left. */
export function destroyCharts() {
  while (live.length > 0) live.pop().destroy();
}

/**
 * A canvas inside a figure: the canvas is an image whose accessible name says what it shows; the
 * figures themselves are in the table beside it.
 */
export function chart(container, label, config, locale) {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  container.append(canvas);
  if (typeof Chart === 'undefined') return;
  Chart.defaults.datasets.bar.maxBarThickness = 56;
  live.push(
    new Chart(canvas, {
      ...config,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale,
        plugins: { legend: { position: 'bottom' } },
        ...config.options,
      },
    }),
  );
}
