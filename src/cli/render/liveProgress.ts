import { createLogUpdate } from 'log-update';
import type { RunReport } from '../runSource/runReport.js';
import type { Colors } from './colors.js';
import { renderProgress } from './progress.js';

/** Frames per second: the spinner's pace, and the cap on redraws whatever the event rate. */
const FRAME_MS = 100;

/**
 * Draws the progress of a run in place on a terminal (log-update rewrites the previous frame).
 * A new report is drawn on the next frame, so a burst of events costs one redraw.
 */
export class LiveProgress {
  private readonly log;
  private report: RunReport | undefined;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly colors: Colors,
  ) {
    this.log = createLogUpdate(stream);
  }

  update(report: RunReport): void {
    const isFirst = this.report === undefined;
    this.report = report;
    if (isFirst) {
      this.draw();
      this.timer = setInterval(() => {
        this.tick++;
        this.draw();
      }, FRAME_MS);
    }
  }

  /** Draws the last frame and leaves it on screen. */
  finish(): void {
    clearInterval(this.timer);
    this.draw();
    this.log.done();
  }

  private draw(): void {
    if (!this.report) return;
    this.log(
      renderProgress(this.report, {
        colors: this.colors,
        now: Date.now(),
        tick: this.tick,
        maxLines: (this.stream.rows || 40) - 1,
        width: this.stream.columns || 120,
      }),
    );
  }
}
