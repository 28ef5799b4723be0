import QRCode from 'qrcode';
import type { QrFormat } from './tickets.dto';

/**
 * Error correction M (15 %) survives a scratched screen or glare while keeping a ~350-character
 * token at about version 14 (73 modules); 8 pixels a module and the standard 4-module quiet zone
 * give a ~650 px PNG that a gate camera reads off a phone at arm's length.
 */
const OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;
const PNG_SCALE = 8;

export interface RenderedQr {
  contentType: string;
  body: Buffer | string;
}

/** The token as an image (or as itself): every format carries exactly the token. */
export async function renderQr(token: string, format: QrFormat): Promise<RenderedQr> {
  switch (format) {
    case 'png':
      return { contentType: 'image/png', body: await QRCode.toBuffer(token, { ...OPTIONS, type: 'png', scale: PNG_SCALE }) };
    case 'svg':
      return { contentType: 'image/svg+xml', body: await QRCode.toString(token, { ...OPTIONS, type: 'svg' }) };
    case 'text':
      return { contentType: 'text/plain; charset=utf-8', body: token };
  }
}
