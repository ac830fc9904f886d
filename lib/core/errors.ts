// Named error classes, so callers branch on the kind of failure rather than on message text.
export class LodestoneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** User or network input that failed validation; `fields` maps a field name to a human message. */
export class ValidationError extends LodestoneError {
  constructor(
    message: string,
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A peer sent something that breaks the protocol (malformed, oversized, out of order). */
export class ProtocolError extends LodestoneError {
  constructor(
    readonly reason: string,
    message: string = reason,
  ) {
    super(message);
  }
}

/** A change or envelope that must not be applied (bad signature, wrong author, invalid fields). */
export class RejectedChangeError extends LodestoneError {
  constructor(
    readonly reason: string,
    message: string = reason,
  ) {
    super(message);
  }
}

export class NotFoundError extends LodestoneError {}
