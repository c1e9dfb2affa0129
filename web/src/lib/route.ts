/** The client's two routes. They never overlap the API's paths
 * (/auth/, /rooms/, /users/, /audit/, /ws/, /docs, /openapi.json). */

export type Route = { name: 'home' } | { name: 'room'; roomId: string } | { name: 'notFound'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/index.html') return { name: 'home' };
  const m = /^\/room\/([^/]+)$/.exec(path);
  if (m) {
    try {
      return { name: 'room', roomId: decodeURIComponent(m[1]!) };
    } catch {
      return { name: 'notFound', path: pathname };
    }
  }
  return { name: 'notFound', path: pathname };
}

export function roomPath(roomId: string): string {
  return `/room/${encodeURIComponent(roomId)}`;
}
