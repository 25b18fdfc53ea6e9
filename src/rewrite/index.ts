export { compileTemplate, UNSUBSCRIBE_PLACEHOLDER } from './compile.js'
export { RewriteError, type RewriteErrorCode } from './errors.js'
export { renderCompiled, renderTrackedTemplate, type Placeholders } from './render.js'
export type {
  CompileOptions,
  CompiledTemplate,
  Fragment,
  LinkEncoding,
  LinkHole,
  LinkOccurrence,
  Part,
  RenderUrls,
  RenderedMessage,
  SkippedLink,
  SkipReason,
  UnsubscribeHole,
} from './types.js'
