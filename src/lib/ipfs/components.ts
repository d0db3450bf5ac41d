// The IPFS pieces the screens place: the badge and "Also keep on IPFS".
export { default as IpfsBadge } from './IpfsBadge.svelte';
export { default as KeepOnIpfs } from './KeepOnIpfs.svelte';
