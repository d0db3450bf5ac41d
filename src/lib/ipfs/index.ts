// "Also keep on IPFS": the client side of the server's IPFS broker.
export { IpfsClient, type IpfsClientOptions, type IpfsConfigView } from './client';
export { formatUsd, IpfsClientError, isFinal, offerFrom402, requirementWithin, type IpfsJob, type IpfsOffer, type PaymentRequirement } from './offer';
export { developmentWallet, injectedWallet, type IpfsWallet, type KeyStorage } from './wallet';
