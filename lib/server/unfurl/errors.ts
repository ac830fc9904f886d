// Named refusals of the unfurler. Every refusal carries a machine code for the route and a sentence
// the UI can show as it is: the person pasting a link should learn why no preview appeared.
import { LodestoneError } from '../../core/errors';

export type FetchRefusedCode =
  | 'bad-url'
  | 'scheme'
  | 'credentials'
  | 'port'
  | 'forbidden-address'
  | 'dns'
  | 'too-many-redirects'
  | 'timeout'
  | 'too-large'
  | 'http-status'
  | 'network'
  | 'not-html';

export class FetchRefused extends LodestoneError {
  constructor(
    readonly code: FetchRefusedCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ImageRefusedCode = 'too-many-pixels' | 'not-an-image' | 'unsupported-format' | 'corrupt' | 'too-large';

export class ImageRefused extends LodestoneError {
  constructor(
    readonly code: ImageRefusedCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
