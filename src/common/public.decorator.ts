import { SetMetadata } from '@nestjs/common';

export const ACCESS_METADATA = 'lienthong:access';

/** The route may be called without credentials. Every route must declare who may call it. */
export const Public = () => SetMetadata(ACCESS_METADATA, { public: true });
