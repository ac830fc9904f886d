// XSS payloads for e2e/xss.spec.ts. Every payload that would run sets `window.__xss = <its id>` (never
// `alert`), so an execution anywhere is detectable by reading one window property.
//
// Templates use two tokens:  %SET%  → `window.__xss=<id>`   %ID% → `<id>`   (and %B64SET% / %B64HTML%
// for the base64 of `window.__xss=<id>` / `<script>window.__xss=<id></script>`).
//
//   TEXT_PAYLOADS        markup, URLs, template syntax, polyglots, unicode tricks... for titles,
//                        descriptions and magnet display names (ids 1–999)
//   LINK_PAYLOADS        http(s) links carrying a payload in host/path/query/fragment; the app must
//                        accept them, and the href it renders must stay http(s) (ids 1001–1999)
//   BLOCKED_LINKS        javascript:/data:/vbscript: (and other non-http) links in many encodings; the
//                        app must refuse every one of them (ids 2001–2999)
//   TAG_PAYLOADS         tag-shaped strings (tags cannot contain markup): scheme-, handler- and
//                        prototype-looking names

export interface XssPayload {
  /** Unique across all lists. */
  readonly id: number;
  /** A short name for messages. */
  readonly label: string;
  /** The payload itself. */
  readonly text: string;
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function expand(id: number, template: string): string {
  const set = `window.__xss=${id}`;
  return template
    .replaceAll('%B64SET%', b64(set))
    .replaceAll('%B64HTML%', b64(`<script>${set}</script>`))
    .replaceAll('%SET%', set)
    .replaceAll('%ID%', String(id));
}

function build(firstId: number, list: ReadonlyArray<readonly [label: string, template: string]>): XssPayload[] {
  return list.map(([label, template], i) => ({ id: firstId + i, label, text: expand(firstId + i, template) }));
}

/** Repeats `unit` (already expanded) and cuts to exactly `length` characters. */
function padTo(unit: string, length: number, sep = ' '): string {
  let s = unit;
  while (s.length < length) s += sep + unit;
  s = s.slice(0, length);
  // The app trims fields: never end on whitespace, so the payload survives verbatim.
  return /\s$/.test(s) ? `${s.slice(0, -1)}x` : s;
}

// ---- markup and text payloads ------------------------------------------------------------------

const TEXT_TEMPLATES: ReadonlyArray<readonly [string, string]> = [
  // classic script / event handler elements
  ['script', '<script>%SET%</script>'],
  ['script upper case', '<SCRIPT>%SET%</SCRIPT>'],
  ['script src data:', '<script src="data:text/javascript,%SET%"></script>'],
  ['script with type', '<script type="text/javascript">%SET%</script>'],
  ['img onerror', '<img src=x onerror=%SET%>'],
  ['img onerror quoted', '<img src="x" onerror="%SET%">'],
  ['img onerror mixed case', '<IMG SRC=x OnErRoR=%SET%>'],
  ['img unclosed', '<img src=x:x onerror=%SET%//'],
  ['img slash separators', '<img/src=x/onerror=%SET%>'],
  ['img srcset', '<img srcset="x" onerror="%SET%">'],
  ['img eval atob', "<img src=x onerror=eval(atob('%B64SET%'))>"],
  ['img bracket property', "<img src=x onerror=window['__x'+'ss']=%ID%>"],
  ['img entity-encoded handler', '<img src=x onerror=&#119;&#105;ndow.__xss=%ID%>'],
  ['img js unicode escape', '<img src=x onerror="\\u0077indow.__xss=%ID%">'],
  ['svg onload', '<svg onload=%SET%>'],
  ['svg/onload', '<svg/onload=%SET%>'],
  ['svg script', '<svg><script>%SET%</script></svg>'],
  ['svg animate onbegin', '<svg><animate onbegin=%SET% attributeName=x dur=1s>'],
  ['svg set onbegin', '<svg><set attributeName=x onbegin=%SET% to=1>'],
  ['svg a xlink:href', '<svg><a xlink:href="javascript:%SET%"><text x=20 y=20>x</text></a></svg>'],
  ['svg use data:', "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='%SET%'/></svg>#x\"/></svg>"],
  ['iframe javascript:', '<iframe src="javascript:%SET%"></iframe>'],
  ['iframe srcdoc script', '<iframe srcdoc="<script>parent.window.__xss=%ID%</script>"></iframe>'],
  ['iframe srcdoc entity-encoded', '<iframe srcdoc="&lt;img src=x onerror=parent.window.__xss=%ID%&gt;"></iframe>'],
  ['iframe onload', '<iframe onload=%SET%></iframe>'],
  ['math mi xlink:href', '<math><mi xlink:href="javascript:%SET%">click</mi></math>'],
  ['math href', '<math href="javascript:%SET%"><mtext>x</mtext></math>'],
  ['a href javascript: unquoted', '<a href=javascript:%SET%>click</a>'],
  ['a href JaVaScRiPt:', '<a href="JaVaScRiPt:%SET%">click</a>'],
  ['a href decimal entities', '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;%SET%">click</a>'],
  ['a href javascript&#58;', '<a href="javascript&#58;%SET%">click</a>'],
  ['a href &#x6A;avascript:', '<a href="&#x6A;avascript:%SET%">click</a>'],
  ['a href zero-padded entities', '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058%SET%">x</a>'],
  ['a href entity tab in scheme', '<a href="jav&#x09;ascript:%SET%">click</a>'],
  ['a href entity newline in scheme', '<a href="jav&#x0A;ascript:%SET%">click</a>'],
  ['a href &colon;', '<a href="javascript&colon;%SET%">click</a>'],
  ['a href leading spaces', '<a href="   javascript:%SET%">click</a>'],
  ['a href data: base64', '<a href="data:text/html;base64,%B64HTML%">click</a>'],
  ['a href vbscript:', '<a href="vbscript:%SET%">click</a>'],
  ['a onclick', '<a href="#" onclick="%SET%">click</a>'],
  ['details open ontoggle', '<details open ontoggle=%SET%>'],
  ['body onload', '<body onload=%SET%>'],
  ['body onpageshow', '<body/onpageshow=%SET%>'],
  ['frameset onload', '<frameset onload=%SET%>'],
  ['input autofocus onfocus', '<input autofocus onfocus=%SET%>'],
  ['select autofocus onfocus', '<select autofocus onfocus=%SET%></select>'],
  ['textarea autofocus onfocus', '<textarea autofocus onfocus=%SET%></textarea>'],
  ['video source onerror', '<video><source onerror="%SET%"></video>'],
  ['audio onerror', '<audio src=x onerror=%SET%>'],
  ['object data javascript:', '<object data="javascript:%SET%"></object>'],
  ['object data data:', '<object data="data:text/html,<script>parent.window.__xss=%ID%</script>"></object>'],
  ['embed javascript:', '<embed src="javascript:%SET%">'],
  ['form action javascript:', '<form action="javascript:%SET%"><button>go</button></form>'],
  ['button formaction', '<button formaction=javascript:%SET%>go</button>'],
  ['marquee onstart', '<marquee onstart=%SET%>x</marquee>'],
  ['css expression()', '<div style="width:expression(%SET%)">x</div>'],
  ['css url(javascript:)', "<div style=\"background:url('javascript:%SET%')\">x</div>"],
  ['style @import javascript:', "<style>@import 'javascript:%SET%';</style>"],
  ['style expression()', '<style>*{x:expression(%SET%)}</style>'],
  ['link stylesheet javascript:', '<link rel=stylesheet href="javascript:%SET%">'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:%SET%">'],
  ['base href', '<base href="javascript:%SET%//">'],
  ['isindex', '<isindex type=image src=1 onerror=%SET%>'],
  ['table background', '<table background="javascript:%SET%"></table>'],
  ['custom element onmouseover', '<x onmouseover=%SET%>hover me</x>'],
  ['pointerenter overlay', '<div onpointerenter=%SET% style=position:fixed;inset:0>x</div>'],
  ['animationstart', '<style>@keyframes k{}</style><b style=animation-name:k onanimationstart=%SET%>x</b>'],
  ['template content', '<template><img src=x onerror=%SET%></template>'],
  // mutation XSS / parser confusion
  ['noscript mXSS', '<noscript><p title="</noscript><img src=x onerror=%SET%>">'],
  ['svg style mXSS', '<svg></p><style><a id="</style><img src=1 onerror=%SET%>">'],
  ['nested script split', '<scr<script>ipt>%SET%</scr</script>ipt>'],
  ['double open bracket', '<<script>%SET%//<</script>'],
  ['close textarea', '</textarea><script>%SET%</script>'],
  ['close title', '</title><script>%SET%</script>'],
  ['close style', '</style><script>%SET%</script>'],
  ['close script', '</script><script>%SET%</script>'],
  ['comment breakout', '--><script>%SET%</script><!--'],
  ['comment in attribute', '<!--<img src="--><img src=x onerror=%SET%//">'],
  ['CDATA end', ']]><script>%SET%</script>'],
  ['CDATA section', '<![CDATA[<script>%SET%</script>]]>'],
  ['xhtml namespace script', '<x:script xmlns:x="http://www.w3.org/1999/xhtml">%SET%</x:script>'],
  // attribute and string breakouts
  ['"><script>', '"><script>%SET%</script>'],
  ["'><script>", "'><script>%SET%</script>"],
  ['" onmouseover="', '" onmouseover="%SET%'],
  ["' onmouseover='", "' onmouseover='%SET%"],
  ["'onmouseover= unquoted", "'onmouseover=%SET% x='"],
  ['" autofocus onfocus="', '" autofocus onfocus="%SET%" x="'],
  ['"/><svg onload>', '"/><svg onload=%SET%>'],
  ['close anchor then javascript: anchor', '</a><a href="javascript:%SET%">x</a>'],
  ['double-quoted JS string breakout', '\\";%SET%;//'],
  ['single-quoted JS string breakout', "';%SET%;//"],
  ['template literal breakout', '`;%SET%;`'],
  ['JSON breakout', '"}]});%SET%;//'],
  ['plain javascript: text', 'javascript:%SET%'],
  ['plain data: text', 'data:text/html,<script>%SET%</script>'],
  // template injection
  ['angular constructor.constructor', "{{constructor.constructor('%SET%')()}}"],
  ['angular $on.constructor', "{{$on.constructor('%SET%')()}}"],
  ['angular sandbox escape', "{{'a'.constructor.prototype.charAt=[].join;$eval('x=1} } };%SET%//');}}"],
  ['JS template literal', '${%SET%}'],
  ['ruby/pug interpolation', '#{%SET%}'],
  ['ERB/EJS', '<%= %SET% %>'],
  ['thymeleaf', '[[${%SET%}]]'],
  ['vue v-html', "<div v-html=\"'<img src=x onerror=%SET%>'\"></div>"],
  ['react dangerouslySetInnerHTML', "dangerouslySetInnerHTML={{__html:'<img src=x onerror=%SET%>'}}"],
  ['handlebars triple stash', '{{{"<script>%SET%</script>"}}}'],
  // markdown
  ['markdown javascript: link', '[click](javascript:%SET%)'],
  ['markdown entity link', '[click](javascript&#58;%SET%)'],
  ['markdown image onerror', '![img](x" onerror="%SET%)'],
  ['markdown autolink', '<javascript:%SET%>'],
  ['markdown data: link', '[click](data:text/html,<script>%SET%</script>)'],
  ['markdown reference link', '[click][r]\n\n[r]: javascript:%SET%'],
  ['markdown split scheme', '[click](java\nscript:%SET%)'],
  // encodings that must stay literal
  ['percent-encoded script', '%3Cscript%3E%SET%%3C%2Fscript%3E'],
  ['entity-encoded script', '&lt;script&gt;%SET%&lt;/script&gt;'],
  ['JS-escaped script', '\\u003cscript\\u003e%SET%\\u003c/script\\u003e'],
  ['hex-escaped script', '\\x3cscript\\x3e%SET%\\x3c/script\\x3e'],
  ['UTF-7 script', '+ADw-script+AD4-%SET%+ADw-/script+AD4-'],
  ['multi-line img', '<img\nsrc=x\nonerror=%SET%>'],
  // unicode tricks (line separators, bidi overrides and a BOM inside text are refused by the text rules,
  // lib/core/unsafe-text.ts: validation.spec.ts shows the refusal)
  ['zero-width space in tag', '<scr\u200Bipt>%SET%</scr\u200Bipt>'],
  ['fullwidth brackets', '\uFF1Cscript\uFF1E%SET%\uFF1C/script\uFF1E'],
  ['small form brackets', '\uFE64script\uFE65%SET%\uFE64/script\uFE65'],
  ['long s (uppercases to S)', '<\u017Fcript>%SET%</\u017Fcript>'],
  ['dotted capital I', '<\u0130mg src=x onerror=%SET%>'],
  ['emoji around svg', '\u{1F600}<svg onload=%SET%>\u{1F600}'],
  ['NBSP separators', '<img\u00A0src=x\u00A0onerror=%SET%>'],
  ['combining marks', 'j\u0301avascript:%SET% <s\u0336cript>%SET%</script>'],
  // polyglots
  [
    '0xsobky polyglot',
    'jaVasCript:/*-/*`/*\\`/*\'/*"/**/(/* */oNcliCk=%SET% )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=%SET%//>\\x3e',
  ],
  ['marquee/plaintext polyglot', '\'">><marquee><img src=x onerror=%SET%></marquee>"></plaintext\\></|\\><plaintext/onmouseover=%SET%><script>%SET%</script>'],
  ['mixed-context polyglot', "\"><img src=x onerror=%SET%>{{constructor.constructor('%SET%')()}}${%SET%}"],
  // prototype-looking strings
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['prototype', 'prototype'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['__defineGetter__', '__defineGetter__'],
  ['JSON __proto__ pollution', '{"__proto__":{"isAdmin":true,"__xss":%ID%}}'],
  ['constructor.prototype pollution', 'constructor.prototype.__xss=%ID%'],
  ['__proto__ query pollution', '__proto__[__xss]=%ID%&constructor[prototype][__xss]=%ID%'],
];

/** A title-sized payload of exactly 200 characters (the title limit). */
const LONG_TITLE_ID = 900;
const LONG_DESCRIPTION_ID = 901;
const LONG_DN_ID = 902;

export const TEXT_PAYLOADS: readonly XssPayload[] = [
  ...build(1, TEXT_TEMPLATES),
  {
    id: LONG_TITLE_ID,
    label: 'long title (200 characters)',
    text: padTo(expand(LONG_TITLE_ID, '"><img src=x onerror=%SET%><svg onload=%SET%>'), 200),
  },
  {
    id: LONG_DESCRIPTION_ID,
    label: 'long description (2000 characters)',
    text: padTo(expand(LONG_DESCRIPTION_ID, "<script>%SET%</script><img src=x onerror=%SET%>{{constructor.constructor('%SET%')()}}"), 2000, '\n'),
  },
  {
    id: LONG_DN_ID,
    label: 'long display name (200 characters)',
    text: padTo(expand(LONG_DN_ID, '<iframe srcdoc="<script>parent.window.__xss=%ID%</script>">'), 200),
  },
];

export const LONG_TITLE = TEXT_PAYLOADS.find((p) => p.id === LONG_TITLE_ID)!;
export const LONG_DESCRIPTION = TEXT_PAYLOADS.find((p) => p.id === LONG_DESCRIPTION_ID)!;
export const LONG_DISPLAY_NAME = TEXT_PAYLOADS.find((p) => p.id === LONG_DN_ID)!;

// ---- http(s) links carrying payloads (accepted) -----------------------------------------------

export const LINK_PAYLOADS: readonly XssPayload[] = build(1001, [
  ['script in query', 'https://example.org/?q=<script>%SET%</script>'],
  ['attribute breakout in path', 'https://example.org/"><img src=x onerror=%SET%>'],
  ['svg in fragment', 'https://example.org/page#<svg onload=%SET%>'],
  ['single-quote breakout', "http://example.org/'onmouseover='%SET%'"],
  ['javascript: in path', 'https://example.org/javascript:%SET%'],
  ['javascript:/data: in query', 'https://example.org/?u=javascript:%SET%&v=data:text/html,x'],
  ['upper-case scheme and host, encoded script', 'HTTPS://EXAMPLE.ORG/%3Cscript%3E%SET%%3C/script%3E'],
  ['template injection in query', "https://example.org/?{{constructor.constructor('%SET%')()}}"],
  ['template literal in path', 'https://example.org/${%SET%}'],
  ['IDN host with img', 'https://\u0430\u0440\u0440\u04CF\u0435.example/?q=<img src=x onerror=%SET%>'],
  ['U+2028 in query', 'https://example.org/?x=\u2028<script>%SET%</script>'],
  ['entity-encoded javascript: in query', 'https://example.org/?x=&#x6A;avascript:%SET%'],
  ['leading and trailing spaces', '  https://example.org/?lead=<script>%SET%</script>  '],
  ['close anchor in query', 'https://example.org:443/?q=</a><a href=javascript:%SET%>'],
  ['RTL override in path', 'https://example.org/\u202E<script>%SET%</script>'],
  ['prototype pollution query', 'https://example.org/?__proto__[__xss]=%ID%&constructor[prototype][__xss]=%ID%'],
  ['backslashes (special scheme)', 'https:\\\\example.org\\<svg onload=%SET%>'],
  ['tab inside scheme of an http link', 'ht\ttps://example.org/?q=<script>%SET%</script>'],
]);

// ---- non-http links (refused) -----------------------------------------------------------------

export const BLOCKED_LINKS: readonly XssPayload[] = build(2001, [
  ['javascript:', 'javascript:%SET%'],
  ['JAVASCRIPT:', 'JAVASCRIPT:%SET%'],
  ['JaVaScRiPt:', 'JaVaScRiPt:%SET%'],
  ['javascript&#58;', 'javascript&#58;%SET%'],
  ['javascript&colon;', 'javascript&colon;%SET%'],
  ['&#x6A;avascript:', '&#x6A;avascript:%SET%'],
  ['decimal entities', '&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;%SET%'],
  ['zero-padded hex entities', '&#x0006A&#x00061&#x00076&#x00061&#x00073&#x00063&#x00072&#x00069&#x00070&#x00074&#x0003A%SET%'],
  ['percent-encoded scheme', '%6A%61%76%61%73%63%72%69%70%74%3A%SET%'],
  ['tab inside scheme', 'java\tscript:%SET%'],
  ['tab before colon', 'javascript\t:%SET%'],
  ['newline inside scheme', 'java\nscript:%SET%'],
  ['carriage return inside scheme', 'java\rscript:%SET%'],
  ['leading space', ' javascript:%SET%'],
  ['leading tab', '\tjavascript:%SET%'],
  ['leading U+0001', '\u0001javascript:%SET%'],
  ['leading U+0000', '\u0000javascript:%SET%'],
  ['leading vertical tab and form feed', '\u000B\u000Cjavascript:%SET%'],
  ['leading U+001F and DEL', '\u001F\u007Fjavascript:%SET%'],
  ['leading NBSP', '\u00A0javascript:%SET%'],
  ['javascript: with comment hiding https', 'javascript:/*https://example.org*/%SET%'],
  ['javascript:// with encoded newline', 'javascript://example.org/%0A%SET%'],
  ['javascript: wrapping https', 'javascript://https://example.org/?%0a%SET%'],
  ['fullwidth j', '\uFF4Aavascript:%SET%'],
  ['scheme-relative', '//javascript:%SET%'],
  ['data: text/html', 'data:text/html,<script>%SET%</script>'],
  ['DATA: base64', 'DATA:text/html;base64,%B64HTML%'],
  ['data: svg', 'data:image/svg+xml,<svg onload=%SET% xmlns="http://www.w3.org/2000/svg"/>'],
  ['data: plain', 'data:,%SET%'],
  ['leading spaces data:', '   data:text/html,<img src=x onerror=%SET%>'],
  ['data&#58;', 'data&#58;text/html,<script>%SET%</script>'],
  ['vbscript:', 'vbscript:msgbox(%ID%)'],
  ['VBScript:', 'VBScript:%SET%'],
  ['vbscript&#58;', 'vbscript&#58;%SET%'],
  ['leading controls vbscript:', '\u0001\u0002vbscript:%SET%'],
  ['tab inside vbscript', 'vb\tscript:%SET%'],
  ['blob:', 'blob:https://example.org/00000000-0000-0000-0000-0000000%ID%'],
  ['file:', 'file:///etc/passwd?%SET%'],
  ['ftp:', 'ftp://example.org/%SET%'],
  ['about:', 'about:blank#%SET%'],
  ['https with credentials', 'https://javascript:%SET%@example.org/'],
]);

// ---- tags -------------------------------------------------------------------------------------

/** Valid tags (≤ 32 characters, /^[\p{L}\p{N}][\p{L}\p{N}_.+-]*$/u, lower case) that look like code. */
export const TAG_PAYLOADS: readonly string[] = [
  'javascript.alert',
  'onerror',
  'onload',
  'constructor',
  'prototype',
  'tostring',
  'valueof',
  'hasownproperty',
  'proto__',
  'window.__xss',
  'script',
  'img.src',
  'document.cookie',
  'eval',
  'vbscript.msgbox',
  'data.text.html',
  '\u017Fcript',
  '\uFF4Aavascript',
  'javascript.window.__xss.eval.001',
];
