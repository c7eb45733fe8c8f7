import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours only on a terminal (and never with NO_COLOR): piped output stays plain text. */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  return pc.createColors(Boolean(stream.isTTY) && pc.isColorSupported);
}
