/* org.slotd.Planner1: capacity, access and deadline reports and the
 * plugins' staffing plans. The reports arrive with the planning work;
 * the interface is registered from the start so clients can find it. */
#include "daemon.h"

static const BusMethod planner_methods[] = {
	{ NULL }
};

const BusInterface planner_interface = {
	"org.slotd.Planner1", planner_methods, NULL
};
