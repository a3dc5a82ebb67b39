/**
 * The one `<script>` an administrator pastes into every page of a site. It defines the documented
 * `window.Openlines` object at once (calls made before the loader arrives are queued and replayed)
 * and adds the loader script, which draws the chat button and loads the chat itself on first open.
 */
export function loaderUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/widget/loader.js`;
}

export function installSnippet(baseUrl: string, publicKey: string): string {
  const stub =
    '(function(w,d,u,k){var o=w.Openlines=w.Openlines||{q:[]};' +
    '"open close toggle identify reset on off".split(" ").forEach(function(m){' +
    'o[m]=o[m]||function(){o.q.push([m,[].slice.call(arguments)])}});' +
    'var s=d.createElement("script");s.async=true;s.src=u;s.setAttribute("data-key",k);' +
    '(d.head||d.body).appendChild(s)})' +
    `(window,document,${JSON.stringify(loaderUrl(baseUrl))},${JSON.stringify(publicKey)});`;
  return `<script>${stub.replace(/</g, '\\u003c')}</script>`;
}
