/** The web shop's event: a passenger asked for a seat (source `seat-booking.web`). */
export interface SeatRequested {
  readonly bookingId: string;
  readonly accountId: string;
  readonly price: number;
  readonly meal: string;
  readonly flight: string;
  readonly seat: string;
  readonly passenger: string;
}

export const SEAT_REQUESTED = { source: 'seat-booking.web', detailType: 'SeatRequested' } as const;
