/**
 * The line automation the widget's endpoints hand over to (issue 6: consent AG-2, contact form
 * AA-2, rating QR-1, the widget's schedule WH-3). One import point, so the widget's routes and
 * tests name these use cases once.
 */
export { recordConsent } from '../../services/automation/consent';
export { submitContactForm } from '../../services/automation/contact-form';
export { rateByClient } from '../../services/automation/rating';
export { widgetAvailability } from '../../services/automation/schedule';
