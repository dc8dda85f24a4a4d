/*
 * routes.h - the one list of every module's route table.
 */
#ifndef XIAOAN_ROUTES_H
#define XIAOAN_ROUTES_H

/* Registers every module's table with the router. */
void routes_register(void);

#endif
