declare module 'magnet-uri' {
  interface MagnetData {
    xt?: string | string[];
    dn?: string | string[];
    name?: string | string[];
    infoHash?: string;
    infoHashV2?: string;
    announce: string[];
    urlList: string[];
    peerAddresses: string[];
    [key: string]: unknown;
  }
  function magnet(uri: string): MagnetData;
  export default magnet;
}
