// Parses the WWW-Authenticate challenge of a registry's 401 (RFC 7235 auth-params), e.g.
// Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/web:pull".

export interface AuthChallenge {
  scheme: 'bearer' | 'basic' | string;
  params: Record<string, string>;
}

export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  // name=token or name="quoted \" string", comma-separated.
  const param = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2];
  let m: RegExpExecArray | null;
  while ((m = param.exec(rest)) !== null && m[0] !== '') {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { scheme: match[1].toLowerCase(), params };
}
