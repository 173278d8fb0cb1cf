// Entry module for every page: small progressive enhancements, no framework.
import { confirmForms } from "./lib/dom.js";

confirmForms(document);
