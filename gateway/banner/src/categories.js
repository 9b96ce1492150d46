/**
 * The two categories the banner treats specially. No state: both parts of the banner (see
 * lazy.js) may bundle this module.
 */

/** Always on, never blocked; its vendors are disclosed, with no switch. */
export const NECESSARY = "necessary";
/** Never granted under Global Privacy Control. */
export const MARKETING = "marketing";
