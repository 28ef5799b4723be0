import unhomoglyph from 'unhomoglyph';

/**
 * The one spelling of an address we store and look up: trimmed, Unicode NFKC (full-width and other
 * compatibility forms become their plain letters: "ａdmin" is "admin"), lower case. Mail providers
 * treat the local part case-insensitively in practice, so "An@X.vn" and "an@x.vn" are one account.
 */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

/**
 * Characters nobody sees or that change how text is shown: zero-width spaces and joiners, the
 * soft hyphen, direction overrides, other format and control characters, and any white space.
 * An address holding one is refused: it would look like another account's. This matches an
 * address without any.
 */
export const WITHOUT_INVISIBLE_CHARACTERS = /^[^\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Z}\s]*$/u;

/**
 * What an address looks like: Unicode's confusable skeleton (UTS #39, through unhomoglyph) of the
 * normalised address, in lower case. "admın@x.vn" (dotless i), "аdmin@x.vn" (Cyrillic а) and
 * "admin@x.vn" share one; a new account whose skeleton an existing one has is refused as taken.
 */
export function emailSkeleton(email: string): string {
  return unhomoglyph(normaliseEmail(email)).toLowerCase();
}
