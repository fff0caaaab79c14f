// The libnfs URL of an export: what `tandem serve`, `tandem status` and `tandem init` print, and
// what a client passes to nfs-ls or nfsbench. Portmapper, MOUNT and NFS answer on one port, so
// the URL names it twice and a client needs no portmapper. Layer: server.

/** nfs://ADDRESS/EXPORT?version=3&nfsport=PORT&mountport=PORT (an IPv6 address in brackets). */
export function nfsUrl(address: string, exportPath: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `nfs://${host}${exportPath}?version=3&nfsport=${port}&mountport=${port}`;
}
