// A progress panel: a <progress> bar, a line with percentage, speed and
// time left (kept out of the live region, so readers are not flooded),
// and a cancel button. Start and end are announced by the page.
import { Progress } from './progress.js';
import { bytes, duration, percent, speed } from './format.js';
import { t } from './i18n.js';

export class ProgressView {
  /** `box` holds `.label`, `progress`, `.figures` and a `.cancel` button. */
  constructor(box) {
    this.box = box;
    this.label = box.querySelector('.label');
    this.bar = box.querySelector('progress');
    this.figures = box.querySelector('.figures');
    this.cancelButton = box.querySelector('.cancel');
    this.controller = null;
    this.cancelButton?.addEventListener('click', () => this.controller?.abort(new DOMException('cancelled', 'AbortError')));
  }

  /** Shows the panel for `total` bytes; returns the tracker and its abort signal. */
  start(label, total) {
    this.controller = new AbortController();
    this.label.textContent = label;
    this.bar.max = 1;
    this.bar.value = 0;
    this.figures.textContent = '';
    this.box.hidden = false;
    const progress = new Progress(total, (s) => this.draw(s));
    return { progress, signal: this.controller.signal };
  }

  draw(snapshot) {
    this.bar.value = snapshot.fraction;
    this.bar.setAttribute('aria-valuetext', percent(snapshot.fraction));
    this.figures.textContent = t(
      'progress',
      `${percent(snapshot.fraction)} (${bytes(snapshot.done)} / ${bytes(snapshot.total)})`,
      speed(snapshot.bytesPerSecond),
      duration(snapshot.secondsLeft),
    );
  }

  stop() {
    this.controller = null;
    this.box.hidden = true;
  }
}
