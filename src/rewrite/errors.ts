export type RewriteErrorCode =
  | 'invalid_input'
  | 'invalid_option'
  | 'empty_template'
  | 'not_html'
  | 'not_text'
  | 'missing_pixel_url'
  | 'missing_honeypot_url'
  | 'missing_unsubscribe_url'

/** The one error this library throws; `code` is stable so the API can map it to a 4xx answer. */
export class RewriteError extends Error {
  readonly code: RewriteErrorCode

  constructor(code: RewriteErrorCode, message: string) {
    super(message)
    this.name = 'RewriteError'
    this.code = code
  }
}
