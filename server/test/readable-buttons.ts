import type { Page } from 'playwright-core';

/**
 * Every visible button inside an open <dialog>, with the WCAG contrast ratio of its text against
 * what is painted behind it (its own background, or the nearest ancestor's, blended over white).
 * A browser test asserts none falls under 3:1, so a style regression that makes a dialog's buttons
 * invisible (white text inherited from the dark top bar, say) fails a test instead of a user.
 */
export interface UnreadableButton {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

export const MIN_BUTTON_CONTRAST = 3;

export function unreadableDialogButtons(page: Page): Promise<UnreadableButton[]> {
  return page.evaluate((minimum) => {
    type Rgba = [number, number, number, number];
    const parse = (value: string): Rgba => {
      const parts = value.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0, 0];
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const alpha = top[3];
      return [
        top[0] * alpha + bottom[0] * (1 - alpha),
        top[1] * alpha + bottom[1] * (1 - alpha),
        top[2] * alpha + bottom[2] * (1 - alpha),
        1,
      ];
    };
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (value: number) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    /** The colour painted behind an element: its backgrounds and its ancestors', innermost on top. */
    const backdrop = (element: Element): Rgba => {
      const layers: Rgba[] = [];
      for (let node: Element | null = element; node; node = node.parentElement) {
        const layer = parse(getComputedStyle(node).backgroundColor);
        if (layer[3] > 0) layers.push(layer);
        if (layer[3] >= 1) break;
      }
      let colour: Rgba = [255, 255, 255, 1];
      for (const layer of layers.reverse()) colour = over(layer, colour);
      return colour;
    };
    const failures: { text: string; ratio: number; color: string; background: string }[] = [];
    for (const button of document.querySelectorAll('dialog[open] button')) {
      const box = button.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(button);
      if (style.visibility === 'hidden') continue;
      const background = backdrop(button);
      const text = over(parse(style.color), background);
      const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a) as [
        number,
        number,
      ];
      const ratio = (light + 0.05) / (dark + 0.05);
      if (ratio < minimum) {
        failures.push({
          text: (button.textContent ?? '').trim() || (button.getAttribute('aria-label') ?? ''),
          ratio: Math.round(ratio * 100) / 100,
          color: style.color,
          background: `rgb(${background.slice(0, 3).map(Math.round).join(', ')})`,
        });
      }
    }
    return failures;
  }, MIN_BUTTON_CONTRAST);
}
