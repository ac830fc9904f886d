// The link unfurler's public surface; everything else in this folder is an implementation detail.
export { createUnfurler, type UnfurlImage, type UnfurlResult, type Unfurler, type UnfurlerOptions } from './unfurl';
export { safeFetch, USER_AGENT, type SafeFetchOptions, type SafeFetchResult } from './safe-fetch';
export { extractMetadata, type ExtractOptions, type PageMetadata } from './metadata';
export { reencodePreviewImage, MAX_INPUT_PIXELS, type PreviewImage, type ReencodeOptions } from './image';
export { checkAddress, describeRefusedAddress, isAllowedAddress, type AddressCategory, type AddressPolicyOptions, type AddressVerdict } from './address-policy';
export { FetchRefused, ImageRefused, type FetchRefusedCode, type ImageRefusedCode } from './errors';
export { resolveChecked, systemResolver, type CheckedAddress, type Resolver, type ResolvedAddress } from './resolve';
export { createNodeConnector, nodeConnector, pinnedLookup, type ConnectResponse, type ConnectTarget, type Connector, type NodeConnectorOptions } from './connector';
